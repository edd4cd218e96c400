-- A patient's ABHA (Ayushman Bharat Health Account): the number existed already; the address
-- (`name@abdm`) joins it. Each belongs to one person on the platform: a second profile with
-- the same number or address is refused (`abha_in_use`), and these indexes settle two
-- attempts at once. NULLs (no ABHA) never collide on either backend.
ALTER TABLE patients ADD COLUMN abha_address TEXT;
CREATE UNIQUE INDEX patients_abha_number ON patients (abha_number);
CREATE UNIQUE INDEX patients_abha_address ON patients (abha_address);
