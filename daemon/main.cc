#include "daemon/docketd.h"

int main(int argc, char** argv) { return docket::daemon::run_docketd(argc, argv); }
