//! Temporary real-data smoke run (not committed).
use std::ops::ControlFlow;
use std::sync::Mutex;
use feedback_alignment::FeedbackKind;
use meta_plasticity::{ImagePool, MetaConfig, MetaTrainer, RuleFamily, run_parallel};

#[test]
fn smoke_emnist() {
    let Ok(img) = std::fs::read("/tmp/emnist_balanced_img.bin") else { return };
    let lab = std::fs::read("/tmp/emnist_balanced_lab.bin").unwrap();
    let pixels: Vec<f32> = img.iter().map(|&p| f32::from(p) / 255.0).collect();
    let labels: Vec<usize> = lab.iter().map(|&l| usize::from(l)).collect();
    let pool = ImagePool::new(784, pixels, labels).unwrap();
    let n: usize = std::env::var("SMOKE_EPISODES").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let runs = [
        ("FA-F0", RuleFamily::PseudoGradient, FeedbackKind::Fixed),
        ("BP-F0", RuleFamily::PseudoGradient, FeedbackKind::Backprop),
        ("FA-bio", RuleFamily::Bio, FeedbackKind::Fixed),
    ];
    let trainers: Vec<_> = runs.iter().map(|(_, rule, fb)| {
        let mut c = MetaConfig::paper(rule.clone(), *fb);
        c.n_episodes = n;
        c.seed = 1;
        MetaTrainer::new(c).unwrap()
    }).collect();
    let acc = Mutex::new(vec![Vec::new(); runs.len()]);
    let start = std::time::Instant::now();
    let done = run_parallel::<f32>(trainers, &pool, |idx, stats, tr| {
        let mut a = acc.lock().unwrap();
        a[idx].push(stats.query_accuracy);
        let k = a[idx].len();
        if k % 25 == 0 {
            let window = &a[idx][k - 25..];
            let mean = window.iter().sum::<f64>() / 25.0;
            let th = tr.theta();
            eprintln!("{} ep {k}: acc(25) {mean:.3} θ0 {:.4} θ2 {:.5} θ9 {:.5} angles {:?} E_W {:?} t={:.0}s", runs[idx].0, th[0], th[2], th[9],
                stats.alignment_angles.iter().map(|a| a.map(|v| v.round())).collect::<Vec<_>>(),
                stats.orthonormality.iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>(), start.elapsed().as_secs_f64());
        }
        ControlFlow::Continue(())
    });
    for d in done { d.unwrap(); }
}
