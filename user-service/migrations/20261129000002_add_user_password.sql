-- The user's password as an Argon2id PHC string (salt and parameters included).
-- Nullable: users registered before passwords existed have none and cannot log in
-- until one is set for them; login treats them as it treats an unknown email.
ALTER TABLE users ADD COLUMN password_hash text;
