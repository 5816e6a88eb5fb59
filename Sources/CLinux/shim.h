// Linux calls that Swift's Glibc module leaves out (they need _GNU_SOURCE).
#include <sys/types.h>

int fallocate(int fd, int mode, off_t offset, off_t len);

/// Frees the blocks of `length` bytes at `offset` of an open file, keeping its size (a hole reads
/// as zeros); -1 with errno set where the file system cannot (EOPNOTSUPP).
static inline int nk_punch_hole(int fd, off_t offset, off_t length) {
    return fallocate(fd, 0x02 /* FALLOC_FL_PUNCH_HOLE */ | 0x01 /* FALLOC_FL_KEEP_SIZE */, offset, length);
}
