"""Real servers and fakes the transport tests run against, each on free loopback ports in a throwaway folder."""
