// Open MPI's C API (Debian's libopenmpi-dev), for data-parallel training.
// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are macros over the
// addresses of library globals, which Swift cannot import: these functions name them.
#include <mpi.h>

static inline MPI_Comm finch_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype finch_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype finch_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype finch_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype finch_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype finch_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype finch_mpi_int(void) { return MPI_INT; }
static inline MPI_Op finch_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op finch_mpi_max(void) { return MPI_MAX; }
static inline void *finch_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler finch_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int finch_mpi_success(void) { return MPI_SUCCESS; }
static inline int finch_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
