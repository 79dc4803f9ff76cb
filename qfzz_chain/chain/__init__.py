"""The chain edge: RPC connection, signers, deployment records, contract clients, local anvil."""
