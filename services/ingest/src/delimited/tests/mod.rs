mod roster_case;
mod table;
mod timestamp;
