use barks::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct UserId(u32);

#[barks::job]
fn orders_per_user(
    users: Vec<(UserId, String)>,
    orders: Vec<(UserId, f64)>,
) -> Vec<(UserId, (Vec<String>, Vec<f64>))> {
    pipeline! {
        let users = parallelize(users, 2);
        let orders = parallelize(orders, 3);
        let grouped = users.cogroup(orders).sort_by_key(true);
        grouped.collect()
    }
}

#[barks::job]
fn named_orders(users: Vec<(UserId, String)>, orders: Vec<(UserId, f64)>) -> u64 {
    pipeline! {
        let users = parallelize(users);
        let orders = parallelize(orders);
        let inner = users.join(orders);
        let outer = users.left_outer_join(orders).map_values(|(name, amount)| (name, amount.unwrap_or(0.0)));
        inner.union(outer).count()
    }
}

// A custom action whose result type comes from the job's return type.
#[barks::job]
fn spend_by_name(users: Vec<(UserId, String)>, orders: Vec<(UserId, f64)>) -> BTreeMap<String, f64> {
    pipeline! {
        let users = parallelize(users);
        let orders = parallelize(orders).reduce_by_key(|a, b| a + b);
        let spend = users.join(orders).values();
        spend.action(|it| it.collect::<Vec<_>>(), |parts| parts.into_iter().flatten().collect())
    }
}

fn main() {
    let users = vec![(UserId(1), "ann".to_string()), (UserId(2), "bob".to_string())];
    let orders = vec![(UserId(1), 2.0), (UserId(1), 3.0), (UserId(3), 4.0)];
    let grouped = orders_per_user(users.clone(), orders.clone()).run_on("local[2]").unwrap();
    assert_eq!(grouped.len(), 3);
    assert_eq!(grouped[0].0, UserId(1));
    // Inner join: 2 rows; left outer join: 2 for ann, 1 for bob.
    assert_eq!(named_orders(users.clone(), orders.clone()).run_on("local[2]").unwrap(), 5);
    let spend = spend_by_name(users, orders).run_on("local[2]").unwrap();
    assert_eq!(spend, BTreeMap::from([("ann".to_string(), 5.0)]));
}
