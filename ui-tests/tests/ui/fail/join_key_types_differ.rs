use barks::prelude::*;

#[barks::job]
fn orders_with_users(orders: Vec<(u64, f64)>, users: Vec<(String, String)>) -> u64 {
    pipeline! {
        let orders = parallelize(orders);
        let users = parallelize(users);
        let joined = orders.join(users);
        joined.count()
    }
}

fn main() {}
