# find_package(nst): the imported target nst::nst (libnst.so and nst.h).
include("${CMAKE_CURRENT_LIST_DIR}/nstTargets.cmake")
