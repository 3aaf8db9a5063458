"""An operator's tasks on the whole database: copy it into PostgreSQL (`flask copy-database`), back it up."""
