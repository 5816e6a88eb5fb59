// HDF5's type, property-list and access-flag "constants" are macros over global ids that Swift
// cannot import; these inline functions expose them.
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

static inline hid_t nk_H5T_NATIVE_INT8(void)   { return H5T_NATIVE_INT8; }
static inline hid_t nk_H5T_NATIVE_UINT8(void)  { return H5T_NATIVE_UINT8; }
static inline hid_t nk_H5T_NATIVE_INT16(void)  { return H5T_NATIVE_INT16; }
static inline hid_t nk_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t nk_H5T_NATIVE_INT32(void)  { return H5T_NATIVE_INT32; }
static inline hid_t nk_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t nk_H5T_NATIVE_INT64(void)  { return H5T_NATIVE_INT64; }
static inline hid_t nk_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t nk_H5T_NATIVE_FLOAT(void)  { return H5T_NATIVE_FLOAT; }
static inline hid_t nk_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t nk_H5T_C_S1(void)          { return H5T_C_S1; }
static inline size_t nk_H5T_VARIABLE(void)     { return H5T_VARIABLE; }

static inline hid_t nk_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t nk_H5P_DATASET_ACCESS(void) { return H5P_DATASET_ACCESS; }
static inline hid_t nk_H5P_DEFAULT(void)        { return H5P_DEFAULT; }
static inline hid_t nk_H5S_ALL(void)            { return H5S_ALL; }
static inline hid_t nk_H5E_DEFAULT(void)        { return H5E_DEFAULT; }

static inline unsigned nk_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned nk_H5F_ACC_TRUNC(void)  { return H5F_ACC_TRUNC; }
static inline unsigned nk_H5F_ACC_RDWR(void)   { return H5F_ACC_RDWR; }
static inline unsigned nk_H5F_ACC_EXCL(void)   { return H5F_ACC_EXCL; }

static herr_t nk_H5_errno_walker(unsigned n, const H5E_error2_t *entry, void *found) {
    (void)n;
    const char *text = entry->desc ? strstr(entry->desc, "errno = ") : NULL;
    if (text && *(int *)found == 0) *(int *)found = atoi(text + 8);
    return 0;
}

static herr_t nk_H5_errno_recorder(hid_t stack, void *found) {
    H5Ewalk2(stack, H5E_WALK_DOWNWARD, nk_H5_errno_walker, found);
    return 0;
}

/// Replaces HDF5's automatic error printing (the toolkit reports errors itself) by a recorder:
/// when an HDF5 call fails, the first system errno on its error stack (HDF5's file drivers put
/// "errno = N" into the message) is stored at `found` unless one is there already. netCDF makes
/// more HDF5 calls after a failure, which clear the stack before control returns to the toolkit.
static inline void nk_H5_record_errors(int *found) {
    H5E_auto2_t current = NULL;
    void *data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &current, &data);
    if (current != nk_H5_errno_recorder || data != found) H5Eset_auto2(H5E_DEFAULT, nk_H5_errno_recorder, found);
}

/// The system errno on HDF5's current error stack, or 0.
static inline int nk_H5_stack_errno(void) {
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, nk_H5_errno_walker, &found);
    return found;
}
