//! The comparison table.

/// One measured line.
pub struct Line {
    /// What was measured.
    pub name: String,
    /// Our figure.
    pub ours: f64,
    /// The reference's label and figure (same unit).
    pub reference: (String, f64),
    /// Unit of both figures.
    pub unit: &'static str,
    /// Whether a larger figure is better (throughput) or smaller (memory).
    pub higher_is_better: bool,
    /// The target ratio, if the issue sets one.
    pub target: Option<f64>,
}

impl Line {
    /// ours / reference.
    pub fn ratio(&self) -> f64 {
        self.ours / self.reference.1
    }
    /// Whether the target is met (`None` without a target).
    pub fn met(&self) -> Option<bool> {
        self.target.map(|t| {
            if self.higher_is_better {
                self.ratio() >= t
            } else {
                self.ratio() <= t
            }
        })
    }
}

fn num(v: f64) -> String {
    if v >= 100.0 {
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// Print the lines as a Markdown table.
pub fn print(lines: &[Line]) {
    println!("| benchmark | tablesync | reference (same run) | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    for l in lines {
        let target = match l.target {
            Some(t) if l.higher_is_better => format!("≥ {t}×"),
            Some(t) => format!("≤ {t}×"),
            None => "—".into(),
        };
        let met = match l.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        println!(
            "| {} | {} {} | {}: {} {} | {:.2}× | {} | {} |",
            l.name,
            num(l.ours),
            l.unit,
            l.reference.0,
            num(l.reference.1),
            l.unit,
            l.ratio(),
            target,
            met
        );
    }
}
