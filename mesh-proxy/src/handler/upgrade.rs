//! Protocol upgrades (WebSocket): after the upstream's 101, splice the two
//! upgraded connections together byte for byte until either side closes.

use crate::drain;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

/// Spawns the tunnel; it ends when both directions are closed, or when the drain
/// timeout runs out.
pub(crate) fn splice(downstream: OnUpgrade, upstream: OnUpgrade, mut drain: drain::Watch) {
    tokio::spawn(async move {
        let tunnel = async {
            let (down, up) = tokio::try_join!(downstream, upstream)?;
            let (mut down, mut up) = (TokioIo::new(down), TokioIo::new(up));
            tokio::io::copy_bidirectional(&mut down, &mut up).await?;
            Ok::<_, mesh_core::BoxError>(())
        };
        tokio::select! {
            result = tunnel => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "upgraded tunnel ended with an error");
                }
            }
            _ = drain.closing() => tracing::debug!("upgraded tunnel closed by drain timeout"),
        }
    });
}
