// HDF5's type, property-list and access-flag "constants" are macros over global ids that Swift
// cannot import; these inline functions expose them.
#include <hdf5.h>

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
static inline hid_t nk_H5P_DEFAULT(void)        { return H5P_DEFAULT; }
static inline hid_t nk_H5S_ALL(void)            { return H5S_ALL; }
static inline hid_t nk_H5E_DEFAULT(void)        { return H5E_DEFAULT; }

static inline unsigned nk_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned nk_H5F_ACC_TRUNC(void)  { return H5F_ACC_TRUNC; }
static inline unsigned nk_H5F_ACC_RDWR(void)   { return H5F_ACC_RDWR; }
static inline unsigned nk_H5F_ACC_EXCL(void)   { return H5F_ACC_EXCL; }

/// Silences HDF5's automatic error-stack printing; the toolkit reports errors itself.
static inline void nk_H5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
