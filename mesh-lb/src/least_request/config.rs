//! The parameters of [`LeastRequest`](super::LeastRequest) and why they can be refused.

/// Envoy's `least_request_lb_config`. Plain fields; [`LeastRequest::new`](super::LeastRequest::new)
/// validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeastRequestConfig {
    /// How many random hosts each pick compares when all weights are equal (at least 2; 2 is
    /// power-of-two-choices). At or above the host count, every host is compared.
    pub choice_count: u32,
    /// How strongly in-flight requests discount a host's weight when weights differ: effective
    /// weight `weight / (active + 1)^bias`. 0 ignores load (weighted random); 1 is Envoy's
    /// default; larger values avoid loaded hosts harder. Finite and at least 0.
    pub active_request_bias: f64,
}

impl LeastRequestConfig {
    /// Envoy's default `choice_count`.
    pub const DEFAULT_CHOICE_COUNT: u32 = 2;
    /// Envoy's default `active_request_bias`.
    pub const DEFAULT_ACTIVE_REQUEST_BIAS: f64 = 1.0;

    /// Checks the fields, naming the first bad one.
    pub fn validate(&self) -> Result<(), InvalidLeastRequestConfig> {
        if self.choice_count < 2 {
            return Err(InvalidLeastRequestConfig::TooFewChoices(self.choice_count));
        }
        if !(self.active_request_bias.is_finite() && self.active_request_bias >= 0.0) {
            return Err(InvalidLeastRequestConfig::BadActiveRequestBias(
                self.active_request_bias,
            ));
        }
        Ok(())
    }
}

impl Default for LeastRequestConfig {
    /// `choice_count` 2, `active_request_bias` 1.0, as in Envoy.
    fn default() -> Self {
        Self {
            choice_count: Self::DEFAULT_CHOICE_COUNT,
            active_request_bias: Self::DEFAULT_ACTIVE_REQUEST_BIAS,
        }
    }
}

/// A [`LeastRequestConfig`] that [`LeastRequest::new`](super::LeastRequest::new) refuses.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum InvalidLeastRequestConfig {
    /// Fewer than two choices would not compare anything.
    #[error("least_request_lb_config.choice_count: {0} is below the minimum of 2")]
    TooFewChoices(u32),
    /// A negative, infinite or NaN bias has no meaning.
    #[error("least_request_lb_config.active_request_bias: {0} is not a finite number >= 0")]
    BadActiveRequestBias(f64),
}
