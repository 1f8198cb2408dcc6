//! Adam against a plain reference written from PyTorch's update rule.

use linalg::{
    rng::{Stream, stream},
    testing::{assert_all_close, tol},
};
use mol_vae::{Adam, AdamConfig, ModelConfig, Parameters};

#[test]
fn three_steps_match_the_reference_update() {
    let config = AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    };
    let mut params =
        Parameters::<f64>::glorot(&ModelConfig::small(3), &mut stream(1, Stream::Init)).unwrap();
    let mut reference = params.to_flat();
    let (mut m, mut v) = (vec![0.0; reference.len()], vec![0.0; reference.len()]);
    let mut adam = Adam::new(&params);
    for t in 1..=3 {
        // A gradient that changes from step to step: g = sin(θ · t).
        let mut grad = params.clone();
        for tensor in grad.tensors_mut() {
            for g in tensor.iter_mut() {
                *g = (*g * t as f64).sin();
            }
        }
        let g = grad.to_flat();
        adam.step(&mut params, &grad, &config);
        for i in 0..reference.len() {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + (1.0 - 0.999) * g[i] * g[i];
            let m_hat = m[i] / (1.0 - 0.9f64.powi(t));
            let v_hat = v[i] / (1.0 - 0.999f64.powi(t));
            reference[i] -= 0.01 * m_hat / (v_hat.sqrt() + 1e-8);
        }
        assert_all_close(&params.to_flat(), &reference, tol::ITER);
    }
    assert_eq!(adam.t, 3);
}
