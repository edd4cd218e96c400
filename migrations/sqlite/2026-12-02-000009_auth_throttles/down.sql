CREATE INDEX otp_challenges_by_client ON otp_challenges (client_ip, created_at);
DROP TABLE throttle_windows;
DROP TABLE login_client_throttles;
DROP TABLE login_throttles;
