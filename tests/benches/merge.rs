//! Merging one cluster into a kubeconfig that already holds 200 contexts: read, lock, merge, atomic write.
#![allow(missing_docs)]

use cce_autopilot_kubeconfig::{
    Cluster, Context, KubeconfigFile, KubeconfigPaths, NamedCluster, NamedContext, NamedUser,
    UpdateOptions, Upsert, User, update,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn entries(i: usize) -> (NamedCluster, NamedUser, NamedContext) {
    let name = format!("cluster-{i:03}");
    let cluster = Cluster {
        server: Some(format!("https://10.0.{}.{}:5443", i / 250, i % 250)),
        certificate_authority_data: Some("Q0EtUEVNLURBVEE=".repeat(60)),
        ..Cluster::default()
    };
    let user = User {
        client_certificate_data: Some("Q0VSVC1QRU0tREFUQQ==".repeat(60)),
        client_key_data: Some("S0VZLVBFTS1EQVRB".repeat(60)),
        ..User::default()
    };
    let context = Context {
        cluster: Some(name.clone()),
        user: Some(format!("{name}-user")),
        ..Context::default()
    };
    (
        NamedCluster::new(name.clone(), cluster),
        NamedUser::new(format!("{name}-user"), user),
        NamedContext::new(name, context),
    )
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let mut file = KubeconfigFile::default();
    for i in 0..200 {
        let (cl, us, cx) = entries(i);
        file.clusters.push(cl);
        file.users.push(us);
        file.contexts.push(cx);
    }
    std::fs::write(&path, file.to_yaml().unwrap()).unwrap();
    let paths = KubeconfigPaths::explicit(&path);
    let options = UpdateOptions::default();
    let (cl, us, cx) = entries(500);
    let upsert = Upsert {
        clusters: vec![cl],
        users: vec![us],
        contexts: vec![cx],
        current_context: None,
    };
    c.bench_function("merge/one_cluster_into_200_contexts", |b| {
        b.iter(|| update(&paths, upsert.clone(), &options).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
