"""Push providers: Web Push, APNs, FCM HTTP v1 and Expo behind one interface (``base.Provider``)."""
