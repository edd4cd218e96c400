//! The administrators' console in Chromium.
