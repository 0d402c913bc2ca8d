//! The API client's pure half: a connection (base URL, key policy, protocol), the route table
//! (task → model and its settings), chat requests and replies, SSE decoding, provider errors and
//! what to do about them, rate-limit headers, and token estimates before a call is sent.

pub mod api_error;
pub mod chat;
pub mod connection;
pub mod messages;
pub mod model_map;
pub mod probe;
pub mod ratelimit;
pub mod routing;
pub mod sse;
pub mod token_estimate;
