#!/bin/sh
# Run by the ipfs/kubo image before the daemon starts (/container-init.d): the RPC API listens for the internal
# network (the compose file never publishes it), the gateway for everyone but serves only what this node holds.
set -e
ipfs config Addresses.API /ip4/0.0.0.0/tcp/5001
ipfs config Addresses.Gateway /ip4/0.0.0.0/tcp/8080
ipfs config --json Gateway.NoFetch true
