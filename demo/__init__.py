"""The simulated month (`svcard demo`) and the sandbox commands (`svcard sandbox`): the
demo and development side, outside the gateway package. The gateway never imports it:
its commands reach `svcard` through the `svcard.commands` entry points (setup.cfg)."""
