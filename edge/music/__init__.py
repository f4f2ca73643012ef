"""What plays and when: the conductor and the parts it asks (what plays next, what may
be played, the mood followed, volume, opening hours, announcements, the play log)."""
