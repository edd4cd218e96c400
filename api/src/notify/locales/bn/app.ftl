# The patient's web app (`/app`).
