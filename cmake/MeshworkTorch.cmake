# Finds LibTorch through a python3 that has PyTorch (torch.utils.cmake_prefix_path).
# CPU builds link only libtorch_cpu and libc10 through targets of our own, so they need
# neither the CUDA toolkit nor the CUDA libraries even when the wheel is a CUDA build.
# GPU builds (MESHWORK_CUDA) use the wheel's own TorchConfig.cmake.

set(MESHWORK_TORCH_FOUND FALSE)
set(MESHWORK_TORCH_CUDA FALSE)
meshwork_feature_wanted(MESHWORK_TRAINER _want_trainer)
if(NOT _want_trainer)
  return()
endif()

if(NOT MESHWORK_PYTHON)
  if(DEFINED ENV{MESHWORK_PYTHON})
    set(MESHWORK_PYTHON $ENV{MESHWORK_PYTHON})
  else()
    find_program(MESHWORK_PYTHON NAMES python3 python)
  endif()
endif()
if(NOT MESHWORK_PYTHON)
  return()
endif()

execute_process(
  COMMAND ${MESHWORK_PYTHON} -c "import os, torch; print(os.path.dirname(torch.__file__)); print(torch.utils.cmake_prefix_path); print(torch.version.cuda or ''); print(torch.__version__); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
  OUTPUT_VARIABLE _torch_out RESULT_VARIABLE _torch_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _torch_rc EQUAL 0)
  return()
endif()
string(REPLACE "\n" ";" _torch_lines "${_torch_out}")
list(GET _torch_lines 0 MESHWORK_TORCH_DIR)
list(GET _torch_lines 1 MESHWORK_TORCH_PREFIX)
list(GET _torch_lines 2 MESHWORK_TORCH_CUDA_VERSION)
list(GET _torch_lines 3 MESHWORK_TORCH_VERSION)
list(GET _torch_lines 4 _torch_abi)

find_library(MESHWORK_TORCH_CPU_LIB torch_cpu PATHS ${MESHWORK_TORCH_DIR}/lib NO_DEFAULT_PATH)
find_library(MESHWORK_C10_LIB c10 PATHS ${MESHWORK_TORCH_DIR}/lib NO_DEFAULT_PATH)
if(NOT MESHWORK_TORCH_CPU_LIB OR NOT MESHWORK_C10_LIB)
  return()
endif()

add_library(meshwork_torch INTERFACE)
target_include_directories(meshwork_torch SYSTEM INTERFACE
  ${MESHWORK_TORCH_DIR}/include
  ${MESHWORK_TORCH_DIR}/include/torch/csrc/api/include)
target_compile_definitions(meshwork_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${_torch_abi} USE_C10D_GLOO USE_DISTRIBUTED)
target_link_libraries(meshwork_torch INTERFACE ${MESHWORK_TORCH_CPU_LIB} ${MESHWORK_C10_LIB})
set_property(TARGET meshwork_torch APPEND PROPERTY INTERFACE_LINK_OPTIONS "LINKER:-rpath,${MESHWORK_TORCH_DIR}/lib")
set(MESHWORK_TORCH_FOUND TRUE)
if(MESHWORK_TORCH_CUDA_VERSION)
  set(MESHWORK_TORCH_CUDA TRUE)
endif()
message(STATUS "Meshwork: LibTorch ${MESHWORK_TORCH_VERSION} at ${MESHWORK_TORCH_DIR} (CUDA: ${MESHWORK_TORCH_CUDA_VERSION})")

# Switches meshwork_torch to the full CUDA build through the wheel's TorchConfig.cmake.
macro(meshwork_use_torch_cuda)
  list(APPEND CMAKE_PREFIX_PATH ${MESHWORK_TORCH_PREFIX})
  # Without this TorchConfig probes the local GPU with try_run, which fails where none is.
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(ENV{TORCH_CUDA_ARCH_LIST} "9.0")
  endif()
  find_package(Torch REQUIRED)
  set_property(TARGET meshwork_torch PROPERTY INTERFACE_LINK_LIBRARIES ${TORCH_LIBRARIES})
  target_compile_definitions(meshwork_torch INTERFACE USE_C10D_NCCL MESHWORK_WITH_CUDA)
endmacro()
