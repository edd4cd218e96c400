# The administrators' console (`/admin`).
