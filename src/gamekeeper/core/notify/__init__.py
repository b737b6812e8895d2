"""Push notifications: players' devices, games' sends, deliveries through providers, receipts."""
