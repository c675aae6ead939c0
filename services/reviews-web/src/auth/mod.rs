//! Sign-in: the OpenID Connect client, the Entra tenant checks and the mapping from the
//! signed-in account to a reviewer.

pub mod entra;
pub mod handlers;
pub mod identity;
pub mod issuer;
pub mod oidc;
