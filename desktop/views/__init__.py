"""Views: widgets that show engine state and emit user intent; no engine logic here."""
