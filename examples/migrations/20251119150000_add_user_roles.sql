-- npa:up
CREATE TABLE user_roles (
    user_id INT NOT NULL REFERENCES users (id),
    role VARCHAR(50) NOT NULL,
    PRIMARY KEY (user_id, role)
);
-- npa:down
DROP TABLE user_roles;
