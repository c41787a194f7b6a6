"""A labgrid lab on this machine (top layer): emulated boards behind ser2net, a coordinator and
exporters on loopback — for `make lab-demo`, CI and tests/lab."""
