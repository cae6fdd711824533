"""Sites, camera adoption and regions, bulk provisioning."""
