# Each feature is ON when its dependencies are found and OFF otherwise, with one clear
# message. The cache holds the user's choice (AUTO by default); -DMESHWORK_X=ON makes a
# missing dependency an error, =OFF skips the feature. The decision is a normal variable.

function(meshwork_feature name found reason)
  set(${name} AUTO CACHE STRING "ON, OFF or AUTO (ON when its dependencies are found)")
  set(_choice "$CACHE{${name}}")
  if(_choice STREQUAL "AUTO")
    set(_on ${found})
  elseif(_choice)
    if(NOT found)
      message(FATAL_ERROR "${name}=ON but ${reason}")
    endif()
    set(_on TRUE)
  else()
    set(_on FALSE)
  endif()
  if(_on)
    message(STATUS "Meshwork: ${name} ON")
  elseif(NOT _choice STREQUAL "AUTO")
    message(STATUS "Meshwork: ${name} OFF (turned off)")
  else()
    message(STATUS "Meshwork: ${name} OFF: ${reason}")
  endif()
  set(${name} ${_on} PARENT_SCOPE)
endfunction()

# True unless the user turned the feature off (then its dependencies are not even looked for).
function(meshwork_feature_wanted name out)
  if(DEFINED CACHE{${name}} AND NOT "$CACHE{${name}}" STREQUAL "AUTO" AND NOT "$CACHE{${name}}")
    set(${out} FALSE PARENT_SCOPE)
  else()
    set(${out} TRUE PARENT_SCOPE)
  endif()
endfunction()

# --- Qt workbench and CLI dependencies (Qt 6 Widgets, QCustomPlot, libssh, SQLite) ---
set(_gui_found FALSE)
meshwork_feature_wanted(MESHWORK_GUI _want)
if(_want)
  find_package(Qt6 QUIET COMPONENTS Widgets Test PrintSupport)
  find_package(QCustomPlotQt6 QUIET)
  find_package(SQLite3 QUIET)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(LIBSSH QUIET IMPORTED_TARGET libssh)
  endif()
  if(Qt6_FOUND AND QCustomPlotQt6_FOUND AND SQLite3_FOUND AND LIBSSH_FOUND)
    set(_gui_found TRUE)
  endif()
endif()
meshwork_feature(MESHWORK_GUI ${_gui_found}
  "Qt 6 Widgets, QCustomPlot (Qt 6), SQLite3 or libssh was not found (Debian: qt6-base-dev libqcustomplot-dev libsqlite3-dev libssh-dev)")

# --- LibTorch trainer ---
include(MeshworkTorch)
meshwork_feature(MESHWORK_TRAINER ${MESHWORK_TORCH_FOUND}
  "LibTorch was not found: install PyTorch (pip install torch) or set MESHWORK_PYTHON to a python3 that has it")

# --- CUDA kernels and NCCL: needs the trainer, nvcc, and a CUDA build of LibTorch ---
set(_cuda_found FALSE)
meshwork_feature_wanted(MESHWORK_CUDA _want)
if(MESHWORK_TRAINER AND _want)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER AND MESHWORK_TORCH_CUDA)
    set(_cuda_found TRUE)
  endif()
endif()
meshwork_feature(MESHWORK_CUDA ${_cuda_found}
  "needs the trainer, a CUDA compiler (nvcc) and a CUDA build of LibTorch")
if(MESHWORK_CUDA)
  enable_language(CUDA)
  meshwork_use_torch_cuda()
endif()
