//! Every API test in one binary (one link): the real server, on SQLite and on PostgreSQL.

mod admin;
mod app_pages;
mod auth_otp;
mod auth_staff;
mod backups;
mod balancer;
mod caches;
mod calls;
mod channels;
mod closures;
mod cluster;
mod console;
mod doctor_workspace;
mod edge;
mod fhir;

mod frozen_process;
mod health;
mod keys_at_rest;
mod metrics;
mod migrations;
mod notifications;
mod openapi;
mod operating;
mod patients;
mod pitr;
mod prescriptions;
mod production;
mod programmes;
mod queue;
mod reports;
mod sessions;
mod walk_ins;
mod writes;

mod spoke;
