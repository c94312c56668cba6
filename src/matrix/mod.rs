//! Compatibility matrices: supported versions, upgrade edges, order, migrations.
