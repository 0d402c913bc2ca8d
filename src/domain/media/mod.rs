//! Generated media: video jobs (their API shapes, request bodies, polling and cost, in
//! `video_job`; a run over an episode's shots, in `clip_run`); images,
//! speech and the episode timeline come next, each in its own module here.

pub mod clip_run;
pub mod video_job;
