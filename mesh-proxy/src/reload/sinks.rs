//! Access log sinks by path: one writer per destination, shared by every listener of a
//! configuration and handed on to the next configuration for the paths it keeps, so a reload
//! neither reopens a file nor loses the lines queued in its writer. A path no configuration
//! uses any more closes once the last request logging to it has finished (its writer flushes
//! when the last handle goes).

use crate::StartError;
use mesh_core::policy::{Bootstrap, ListenerKind, LogPath};
use mesh_filters::access_log::{DEFAULT_CAPACITY, Sink};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct Sinks(HashMap<LogPath, Sink>);

impl Sinks {
    /// Every path `config`'s listeners log to: `previous`'s sink where it had one, else opened
    /// now (a file that cannot be opened refuses the configuration).
    pub(crate) fn open(config: &Bootstrap, previous: Option<&Sinks>) -> Result<Sinks, StartError> {
        let mut sinks = HashMap::new();
        let paths = config.listeners.iter().flat_map(|l| match &l.kind {
            ListenerKind::Http(h) => h.options.access_log.as_slice(),
            ListenerKind::Tcp(_) => &[],
        });
        for log in paths {
            if sinks.contains_key(&log.path) {
                continue;
            }
            let sink = match previous.and_then(|p| p.0.get(&log.path)) {
                Some(kept) => kept.clone(),
                None => open(&log.path)?,
            };
            sinks.insert(log.path.clone(), sink);
        }
        Ok(Sinks(sinks))
    }

    pub(crate) fn get(&self, path: &LogPath) -> Option<&Sink> {
        self.0.get(path)
    }
}

fn open(path: &LogPath) -> Result<Sink, StartError> {
    let opened = match path {
        LogPath::Stdout => Sink::stdout(DEFAULT_CAPACITY),
        LogPath::File(file) => Sink::file(file, DEFAULT_CAPACITY),
    };
    opened.map_err(|source| StartError::AccessLog {
        path: match path {
            LogPath::Stdout => "/dev/stdout".into(),
            LogPath::File(file) => file.display().to_string(),
        },
        source,
    })
}
