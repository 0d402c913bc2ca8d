//! Generated media: video jobs (their API shapes, request bodies, polling and cost); images,
//! speech and the episode timeline come next, each in its own module here.

pub mod video_job;
