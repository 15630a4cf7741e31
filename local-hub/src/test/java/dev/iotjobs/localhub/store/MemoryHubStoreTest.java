package dev.iotjobs.localhub.store;

class MemoryHubStoreTest implements HubStoreContract {
    @Override
    public HubStore newStore() {
        return new MemoryHubStore();
    }
}
