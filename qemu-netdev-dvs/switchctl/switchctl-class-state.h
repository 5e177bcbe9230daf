/* Readable renderings of the opaque, versioned class states that
 * dvport.show and port.filter-state return ({"class", "version", "data"}
 * with the data in base64).  The formats are the classes' own
 * (classes/l2-learning.c, classes/filter-shaper.c); a class or version this
 * file does not know is shown by its size only. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Prints a CLASS VERSION BYTES STATE table of
 * @classes, then a section per decoded state: the learned MACs with their
 * ages when saved, the shaper's bucket levels per direction. */
void ctl_print_class_states (JsonArray *classes);

G_END_DECLS
