"""Huijia province plugin for 北京市总工会 (Beijing, GB/T 2260 code 11).

The plugin object is the module :mod:`huijia_beijing.plugin` (entry point ``huijia.plugins``:
``beijing``); its pure rules live in :mod:`huijia_beijing.rules`, its settings schema in
:mod:`huijia_beijing.settings`.
"""
