//! mesh-core: the model every other mesh crate shares.
//!
//! - [`config`]: the configuration file's serde shapes (only this crate knows them).
//! - [`policy`]: validated types built from them; all errors of a file at once, each
//!   with its key path.
//! - [`routing`]: selecting a virtual host and route for a request.
//! - [`load`]: reading a file into a [`policy::Bootstrap`].
//! - [`duration`]: `250ms`/`15s` durations.
//!
//! ```
//! let cfg = mesh_core::load::from_yaml(
//!     r#"
//! listeners:
//!   - name: web
//!     address: 127.0.0.1:0
//!     virtual_hosts:
//!       - name: all
//!         domains: ["*"]
//!         routes:
//!           - match: { prefix: "/" }
//!             route: { cluster: web }
//! clusters:
//!   - name: web
//!     endpoints: [ { address: "127.0.0.1:8081" } ]
//! "#,
//!     "example.yaml",
//! )
//! .unwrap();
//! assert_eq!(cfg.clusters[0].endpoints.len(), 1);
//! ```

pub mod config;
pub mod duration;
pub mod load;
pub mod policy;
pub mod routing;

/// The error type at tower `Service` boundaries across mesh.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
