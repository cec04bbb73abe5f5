//! The HPA algorithm and the autoscaling controller (issue 6); empty until then.
