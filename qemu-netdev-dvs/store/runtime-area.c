#define G_LOG_DOMAIN "dvs-store"
#include "runtime-area.h"

#include "datapath/datapath.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define AREA_MAGIC "DVSRTA01"
#define AREA_VERSION 4   /* 2: port counters gained held, hold_dropped;
                          * 3: drop_crash, the burst journal;
                          * 4: per-queue counters, ring positions per
                          *    queue (multi-queue vNICs) */

typedef struct {
  guint64 in_use;                 /* 1: claimed */
  gchar switch_id[64];
  gchar key[64];
  guint8 pad[64 - sizeof (guint64)];
  struct dvs_port_runtime rt;     /* 64-byte aligned */
} AreaSlot;

typedef struct {
  gchar magic[8];
  guint32 version;
  guint32 n_slots;
  guint64 slot_size;
  guint64 runtime_size;           /* sizeof (struct dvs_port_runtime) */
  gchar boot_id[40];
  guint64 journal_size;           /* sizeof (struct dvs_journal) */
  guint64 recovery_size;          /* sizeof (struct dvs_journal_recovery) */
  guint64 blob_size;              /* sizeof (struct dvs_fwd_blob) */
  guint8 pad[64 - 8 - 4 - 4 - 8 - 8 - 40 - 8 - 8 - 8 + 64];
} AreaHeader;

G_STATIC_ASSERT (sizeof (AreaHeader) % 64 == 0);
G_STATIC_ASSERT (sizeof (AreaSlot) % 8 == 0);

struct _DvsRuntimeArea {
  gchar *path;
  gsize size;
  AreaHeader *header;
  AreaSlot *slots;
  struct dvs_journal *journal;           /* after the slots */
  struct dvs_journal_recovery *recovery;
  struct dvs_fwd_blob (*blobs)[2];       /* a pair per slot */
  gboolean claimed_now[DVS_MAX_PORTS];   /* claimed by this process */
};

static gchar *
read_boot_id (void)
{
  gchar *id = NULL;

  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
    return g_strdup ("unknown");
  return g_strstrip (id);
}

static gboolean
header_matches (const AreaHeader *h, const gchar *boot_id)
{
  return memcmp (h->magic, AREA_MAGIC, 8) == 0 && h->version == AREA_VERSION
         && h->n_slots == DVS_MAX_PORTS && h->slot_size == sizeof (AreaSlot)
         && h->runtime_size == sizeof (struct dvs_port_runtime)
         && h->journal_size == sizeof (struct dvs_journal)
         && h->recovery_size == sizeof (struct dvs_journal_recovery)
         && h->blob_size == sizeof (struct dvs_fwd_blob)
         && strncmp (h->boot_id, boot_id, sizeof h->boot_id) == 0;
}

/* The runtime of slot @slot if it is in use (a dvs_journal_rt_of_fn). */
static struct dvs_port_runtime *
lookup_slot (void *ctx, uint16_t slot)
{
  DvsRuntimeArea *area = ctx;

  if (slot >= DVS_MAX_PORTS
      || !__atomic_load_n (&area->slots[slot].in_use, __ATOMIC_ACQUIRE))
    return NULL;
  return &area->slots[slot].rt;
}

void
dvs_runtime_area_journal (DvsRuntimeArea *area, struct dvs_journal_area *out)
{
  *out = (struct dvs_journal_area) {
    .journal = area->journal,
    .recovery = area->recovery,
    .base = (uint8_t *) &area->slots[0].rt,
    .stride = sizeof (AreaSlot),
    .n_slots = DVS_MAX_PORTS,
    .rt_of = lookup_slot,
    .ctx = area,
    .blob_base = (uint8_t *) area->blobs,
    .blob_stride = sizeof area->blobs[0],
  };
}

static const gchar *
slot_name (DvsRuntimeArea *area, guint16 slot, gchar *buf, gsize size)
{
  if (slot < DVS_MAX_PORTS && area->slots[slot].in_use)
    g_snprintf (buf, size, "DVport %.64s of %.64s", area->slots[slot].key,
                area->slots[slot].switch_id);
  else
    g_snprintf (buf, size, "a port no longer attached (slot %u)", slot);
  return buf;
}

/* A process killed in the middle of a burst left the journal open or
 * committing: settle it before anything reads the counters. */
static void
settle_journal (DvsRuntimeArea *area)
{
  struct dvs_journal_summary sum;
  struct dvs_journal_area ja;
  gchar name[160];
  int r;

  dvs_runtime_area_journal (area, &ja);
  r = dvs_journal_recover (&ja, &sum);

  if (r < 0)
    g_warning ("runtime area %s: the burst journal was damaged (state %u) "
               "and is reset; counters are as the last burst left them",
               area->path, sum.state);
  else if (r > 0 && sum.committed)
    g_message ("runtime area %s: the burst in flight at the crash (%u "
               "frame(s) from %s, queue %u) was complete; its counters are applied",
               area->path, sum.frames, slot_name (area, sum.in_slot, name, sizeof name),
               sum.in_queue);
  else if (r > 0)
    g_message ("runtime area %s: the burst in flight at the crash (%u "
               "frame(s) from %s, queue %u) is accounted for: %u counted as "
               "crash drops, %u hand-over(s) to settle when their ports' "
               "queues are up again",
               area->path, sum.frames, slot_name (area, sum.in_slot, name, sizeof name),
               sum.in_queue, sum.crash_drops, sum.pending);
}


DvsRuntimeArea *
dvs_runtime_area_open (const gchar *path, GError **error)
{
  g_autoptr (DvsRuntimeArea) area = g_new0 (DvsRuntimeArea, 1);
  g_autofree gchar *boot_id = read_boot_id ();
  struct stat st;
  void *mem;
  int fd;

  area->path = g_strdup (path);
  area->size = sizeof (AreaHeader) + DVS_MAX_PORTS * sizeof (AreaSlot)
               + sizeof (struct dvs_journal) + sizeof (struct dvs_journal_recovery)
               + DVS_MAX_PORTS * 2 * sizeof (struct dvs_fwd_blob);
  /* O_NOFOLLOW: a symbolic link put in the state directory must not make
   * the switch map (and reset) some other file. */
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0 && fstat (fd, &st) == 0 && !S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "cannot prepare the runtime area %s: it is not a regular file; "
                   "move it out of the way", path);
      close (fd);
      return NULL;
    }
  if (fd < 0 || fstat (fd, &st) < 0
      || ((gsize) st.st_size != area->size && ftruncate (fd, (off_t) area->size) < 0))
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot prepare the runtime area %s: %s", path, g_strerror (err));
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  mem = mmap (NULL, area->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close (fd);
  if (mem == MAP_FAILED)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot map the runtime area %s: %s", path, g_strerror (err));
      return NULL;
    }
  area->header = mem;
  area->slots = (AreaSlot *) ((guint8 *) mem + sizeof (AreaHeader));
  area->journal = (struct dvs_journal *) (area->slots + DVS_MAX_PORTS);
  area->recovery = (struct dvs_journal_recovery *) (area->journal + 1);
  area->blobs = (struct dvs_fwd_blob (*)[2]) (area->recovery + 1);
  if (!header_matches (area->header, boot_id))
    {
      /* New, from another boot or another layout: start empty. */
      if (memcmp (area->header->magic, AREA_MAGIC, 8) == 0)
        g_message ("runtime area %s is from another boot or layout: reset "
                   "(ports restore from their checkpoints)", path);
      memset (mem, 0, area->size);
      memcpy (area->header->magic, AREA_MAGIC, 8);
      area->header->version = AREA_VERSION;
      area->header->n_slots = DVS_MAX_PORTS;
      area->header->slot_size = sizeof (AreaSlot);
      area->header->runtime_size = sizeof (struct dvs_port_runtime);
      area->header->journal_size = sizeof (struct dvs_journal);
      area->header->recovery_size = sizeof (struct dvs_journal_recovery);
      area->header->blob_size = sizeof (struct dvs_fwd_blob);
      g_strlcpy (area->header->boot_id, boot_id, sizeof area->header->boot_id);
    }
  else
    settle_journal (area);
  return g_steal_pointer (&area);
}

void
dvs_runtime_area_free (DvsRuntimeArea *area)
{
  if (area == NULL)
    return;
  if (area->header != NULL)
    munmap (area->header, area->size);
  g_free (area->path);
  g_free (area);
}

gint
dvs_runtime_area_claim (DvsRuntimeArea *area, const gchar *switch_id,
                        const gchar *key, gboolean *adopted)
{
  gint free_slot = -1;

  *adopted = FALSE;
  for (gint i = 0; i < DVS_MAX_PORTS; i++)
    {
      AreaSlot *s = &area->slots[i];
      if (s->in_use && strncmp (s->switch_id, switch_id, sizeof s->switch_id) == 0
          && strncmp (s->key, key, sizeof s->key) == 0)
        {
          *adopted = !area->claimed_now[i];
          area->claimed_now[i] = TRUE;
          return i;
        }
      if (!s->in_use && free_slot < 0)
        free_slot = i;
    }
  if (free_slot < 0)
    return -1;
  AreaSlot *s = &area->slots[free_slot];
  memset (&s->rt, 0, sizeof s->rt);
  area->blobs[free_slot][0].gen = area->blobs[free_slot][1].gen = 0;
  g_strlcpy (s->switch_id, switch_id, sizeof s->switch_id);
  g_strlcpy (s->key, key, sizeof s->key);
  __atomic_store_n (&s->in_use, 1, __ATOMIC_RELEASE);
  area->claimed_now[free_slot] = TRUE;
  return free_slot;
}

struct dvs_port_runtime *
dvs_runtime_area_slot (DvsRuntimeArea *area, gint index)
{
  g_return_val_if_fail (index >= 0 && index < DVS_MAX_PORTS, NULL);
  return &area->slots[index].rt;
}

GBytes *
dvs_runtime_area_fwd_state (DvsRuntimeArea *area, gint index, guint16 *version)
{
  const struct dvs_fwd_blob *b;

  g_return_val_if_fail (index >= 0 && index < DVS_MAX_PORTS, NULL);
  b = dvs_fwd_blob_current (area->blobs[index]);
  if (b == NULL)
    return NULL;
  *version = b->version;
  return g_bytes_new (b->data, b->len);
}

void
dvs_runtime_area_release (DvsRuntimeArea *area, gint index)
{
  g_return_if_fail (index >= 0 && index < DVS_MAX_PORTS);
  __atomic_store_n (&area->slots[index].in_use, 0, __ATOMIC_RELEASE);
  area->claimed_now[index] = FALSE;
}

guint
dvs_runtime_area_release_unclaimed (DvsRuntimeArea *area)
{
  guint n = 0;

  for (gint i = 0; i < DVS_MAX_PORTS; i++)
    if (area->slots[i].in_use && !area->claimed_now[i])
      {
        dvs_runtime_area_release (area, i);
        n++;
      }
  return n;
}
