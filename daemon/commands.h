#pragma once
// docketd's commands: the one command table (command_table.h, its entries in
// commands.cc), the line protocol that carries them (protocol.h) and the
// clock advances a rehearsal runs (clock_advance.h).

#include "daemon/clock_advance.h"
#include "daemon/command_table.h"
#include "daemon/protocol.h"
