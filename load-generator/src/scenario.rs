//! Scenarios: which actions a run performs and in what proportions. Pure choice logic only; the
//! HTTP side of each action lives in `shop`.
//!
//! The schedule's rate counts actions. Most actions are one request, so for them the rate is the
//! request rate; a `journey` is a whole user session of several requests.

use anyhow::{Context, bail};
use clap::ValueEnum;

/// One unit of scheduled work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `GET /products` with a random category and page.
    List,
    /// `GET /products/{id}`: the cached read path.
    Product,
    /// `POST /users` with a fresh email.
    Register,
    /// `GET /users/{id}` of a known user, with its token.
    User,
    /// `POST /orders` for a known user, with its token, with one to three products.
    Order,
    /// `GET /orders/{id}` of an order this run created, with its owner's token.
    ReadOrder,
    /// Register, log in, list, read one to three products, order them, read the order back.
    Journey,
    /// `GET` of the `--url` target (benchmarks and tests).
    Get,
}

impl Action {
    const ALL: [(Action, &'static str); 8] = [
        (Action::List, "list"),
        (Action::Product, "product"),
        (Action::Register, "register"),
        (Action::User, "user"),
        (Action::Order, "order"),
        (Action::ReadOrder, "read-order"),
        (Action::Journey, "journey"),
        (Action::Get, "get"),
    ];

    /// The name used in `--weights`.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(a, _)| *a == self).map_or("?", |(_, n)| n)
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(a, _)| *a)
    }
}

/// Named mixes of actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioKind {
    /// List and read products.
    Browse,
    /// Full user journeys only.
    Journey,
    /// Everything, weighted towards reads like a shop's traffic.
    Mixed,
}

/// One service to aim all load at, so that only its forecast and autoscaler move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceFocus {
    /// Register and read users.
    User,
    /// List and read products.
    Catalog,
    /// Place and read orders (order-service calls user and catalog itself, lightly).
    Order,
}

/// The action mix of a run, as weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    weights: Vec<(Action, u32)>,
    total: u32,
}

impl Mix {
    /// Builds a mix; at least one weight must be positive.
    pub fn new(weights: Vec<(Action, u32)>) -> anyhow::Result<Self> {
        let weights: Vec<_> = weights.into_iter().filter(|(_, w)| *w > 0).collect();
        let total = weights
            .iter()
            .try_fold(0u32, |sum, (_, w)| sum.checked_add(*w))
            .context("weights too large")?;
        if total == 0 {
            bail!("the action mix needs at least one positive weight");
        }
        Ok(Self { weights, total })
    }

    /// The preset for a scenario, or for a service when one is focused (the focus wins).
    pub fn preset(kind: ScenarioKind, focus: Option<ServiceFocus>) -> Self {
        use Action::*;
        let weights = match (focus, kind) {
            (Some(ServiceFocus::User), _) => vec![(Register, 30), (User, 70)],
            (Some(ServiceFocus::Catalog), _) | (None, ScenarioKind::Browse) => vec![(List, 30), (Product, 70)],
            (Some(ServiceFocus::Order), _) => vec![(Order, 60), (ReadOrder, 40)],
            (None, ScenarioKind::Journey) => vec![(Journey, 1)],
            (None, ScenarioKind::Mixed) => {
                vec![
                    (List, 20),
                    (Product, 50),
                    (Register, 5),
                    (User, 5),
                    (Order, 10),
                    (ReadOrder, 5),
                    (Journey, 5),
                ]
            }
        };
        let total = weights.iter().map(|(_, w)| w).sum();
        Self { weights, total }
    }

    /// Parses `--weights`: `name=weight` pairs separated by commas, e.g. `product=70,journey=30`.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut weights = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = pair
                .split_once('=')
                .with_context(|| format!("expected name=weight, got {pair:?}"))?;
            let action = Action::parse(name.trim()).with_context(|| {
                let names: Vec<_> = Action::ALL.iter().map(|(_, n)| *n).collect();
                format!("unknown action {name:?}; known: {}", names.join(", "))
            })?;
            let weight = weight
                .trim()
                .parse()
                .with_context(|| format!("bad weight in {pair:?}"))?;
            weights.push((action, weight));
        }
        Self::new(weights)
    }

    /// Picks an action for a uniform random draw `roll` in `0..total()`.
    pub fn pick(&self, roll: u32) -> Action {
        let mut left = roll % self.total;
        for (action, weight) in &self.weights {
            if left < *weight {
                return *action;
            }
            left -= weight;
        }
        // Unreachable while weights sum to total; the last action is a safe answer anyway.
        self.weights.last().map_or(Action::Product, |(a, _)| *a)
    }

    /// Sum of the weights.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Whether any action in the mix satisfies `pred`.
    pub fn uses(&self, pred: impl Fn(Action) -> bool) -> bool {
        self.weights.iter().any(|(a, _)| pred(*a))
    }

    /// `product=70,list=30`.
    pub fn describe(&self) -> String {
        self.weights
            .iter()
            .map(|(a, w)| format!("{}={w}", a.name()))
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weights() {
        let mix = Mix::parse("product=70, journey=30").unwrap();
        assert_eq!(mix.total(), 100);
        assert_eq!(mix.describe(), "product=70,journey=30");
        assert!(Mix::parse("nope=1").is_err());
        assert!(Mix::parse("product").is_err());
        assert!(Mix::parse("product=x").is_err());
        assert!(Mix::parse("product=0").is_err());
        assert!(Mix::parse("").is_err());
    }

    #[test]
    fn picks_in_proportion() {
        let mix = Mix::parse("list=1,product=3").unwrap();
        let picks: Vec<Action> = (0..4).map(|roll| mix.pick(roll)).collect();
        assert_eq!(
            picks,
            vec![Action::List, Action::Product, Action::Product, Action::Product]
        );
        assert_eq!(mix.pick(4), Action::List);
    }

    #[test]
    fn focus_overrides_scenario() {
        let mix = Mix::preset(ScenarioKind::Mixed, Some(ServiceFocus::User));
        assert!(mix.uses(|a| a == Action::Register));
        assert!(!mix.uses(|a| matches!(a, Action::Product | Action::Order)));
        let mix = Mix::preset(ScenarioKind::Journey, None);
        assert_eq!(mix.pick(0), Action::Journey);
    }
}
