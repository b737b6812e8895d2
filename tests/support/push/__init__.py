"""Loopback stand-ins for the push providers (Web Push, APNs, FCM, Expo)."""
