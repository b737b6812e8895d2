"""TV casting: cast sessions, their receiver (the TV page), controllers (players' phones) and
the inputs that flow from controllers to the receiver, in order."""
