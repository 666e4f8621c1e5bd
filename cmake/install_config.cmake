# Run by `cmake --install`: the configs in /etc/rackwatch are the operator's.
# The shipped version of each always lands beside it as NAME.example; the
# config itself is installed only where there is none yet, so an upgrade
# never replaces an edited one. Set by the install(CODE) before this:
# rackwatch_config_source (the tree's config/) and rackwatch_confdir.
# file(INSTALL) puts DESTDIR in front of the destination itself; a test of
# what is there must do so by hand.
foreach(name rackwatchd.yaml demo.yaml)
  file(INSTALL "${rackwatch_config_source}/${name}" DESTINATION "${rackwatch_confdir}" RENAME "${name}.example")
  set(installed "$ENV{DESTDIR}${rackwatch_confdir}/${name}")
  if(EXISTS "${installed}")
    message(STATUS "Kept: ${installed} (the shipped version is ${name}.example beside it)")
  else()
    file(INSTALL "${rackwatch_config_source}/${name}" DESTINATION "${rackwatch_confdir}")
  endif()
endforeach()
