/* The methods of dvs-switchd's local control socket
 * (docs/control-protocol.md), over a DvsSwitch passed as user data. */
#pragma once

#include "dvs-rpc-server.h"

G_BEGIN_DECLS

extern const DvsRpcMethod dvs_control_methods[];

G_END_DECLS
